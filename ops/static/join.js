// The payer's page (join.html); a file of its own, so that the page's CSP allows no inline script.
"use strict";
const PLAN = "pro";
const PRICES = JSON.parse(document.getElementById("prices").textContent);
const $ = (id) => document.getElementById(id);
$("price").textContent = "¥" + (PRICES[PLAN] / 100).toFixed(0);
let token = new URLSearchParams(location.hash.slice(1)).get("t");
let timer = null;

function show(step) {
  $("choose").hidden = true;
  $("progress").hidden = false;
  const text = $("state-text");
  text.textContent = step.message;
  text.className = "state" + (step.state === "bound" ? " done" : step.state === "failed" ? " error" : "");
  text.dataset.state = step.state;
  const qr = step.state === "awaiting_payment" ? step.pay_qr : step.state === "awaiting_scan" ? step.bot_qr : null;
  $("qr").hidden = !qr;
  $("qr-hint").textContent = qr ? (step.state === "awaiting_payment" ? "微信扫一扫付款" : "用付款的微信扫一扫，绑定机器人") : "";
  if (qr) { $("qr").src = qr.png; $("qr").dataset.url = qr.url; }
  const again = $("again");
  again.hidden = !(step.state === "expired" || step.state === "failed");
  again.textContent = step.profile ? "获取新的二维码 New QR" : "重新下单 New order";
  again.onclick = step.profile ? () => poll(true) : restart;
  if (step.state === "bound") clearInterval(timer);
}

async function poll(newQr) {
  const response = await fetch("/api/onboarding/" + encodeURIComponent(token) + (newQr ? "?new_qr=1" : ""));
  if (response.status === 404) { restart(); return; }
  if (response.ok) show(await response.json());
}

function follow() {
  location.hash = "t=" + encodeURIComponent(token);
  poll(false);
  clearInterval(timer);
  timer = setInterval(() => poll(false), 2000);
}

function restart() {
  token = null;
  history.replaceState(null, "", location.pathname);
  clearInterval(timer);
  $("choose").hidden = false;
  $("progress").hidden = true;
  $("pay").disabled = false;
}

$("pay").onclick = async () => {
  $("pay").disabled = true;
  const response = await fetch("/api/orders", {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({plan: PLAN})});
  const body = await response.json();
  if (!response.ok) {
    $("pay").disabled = false;
    $("progress").hidden = false;
    $("state-text").textContent = body.message + "：" + body.remedy;
    $("state-text").className = "state error";
    return;
  }
  token = body.onboarding_token;
  follow();
};

if (token) follow();
