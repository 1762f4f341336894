"""The profile registry: a bare git repository every host syncs its profiles through.

Each host keeps a working copy under TWILIGHT_HOME/profile-registry, cloned on first use from
TWILIGHT_PROFILE_REGISTRY (a path or a git URL; a local path that is missing or empty becomes a
new bare repository). It holds `profiles/<name>/`, an `OWNERS` file
(`profile | owner | verified_by | claimed_at`) and a README. Every change is a commit saying who
did what and why. Secrets never enter git: each profile's `.gitignore` keeps `.env` out, and
before every commit the staged files are checked for any value of any profile's `.env`.

Sync merges three-way (profiles/merge.py): YAML by key, SOUL.md and AGENTS.md keep the local
side, and a conflict (a `config.yaml` key changed on both hosts) aborts with the keys named
before anything is written.
"""

from __future__ import annotations

import datetime as dt
import getpass
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from profiles.envfile import read_env
from profiles.merge import merge_tree

log = structlog.get_logger("profiles.registry")

BRANCH = "main"
OWNERS_HEADER = "# Profile ownership registry\n# Format: profile_name | owner_id | verified_by | claimed_at\n# ---\n"
README = """# Hermes profile registry

`profiles/<name>/` holds one hermes-agent profile each (no secrets: `.env` never enters git).
`OWNERS` records who owns which profile (`profile | owner | verified_by | claimed_at`).
Change it with `hermes-profile-manager` (or `twilight profiles ...`); every change is a commit.
"""
ROOT_IGNORE = "# secrets and hermes runtime state never enter the registry\n.env\n*.env\n!.env.example\n"


class RegistryError(RuntimeError):
    """A registry operation that cannot be done, with what to do instead."""


class ClaimRefused(RegistryError):
    pass


class SyncConflict(RegistryError):
    def __init__(self, conflicts: Sequence[str]) -> None:
        super().__init__("both hosts changed the same keys; nothing was written or pushed: " + "; ".join(conflicts))
        self.conflicts = list(conflicts)


@dataclass(frozen=True)
class Owner:
    profile: str
    owner: str
    verified_by: str
    claimed_at: str


# An identity check: given "payment:<ref>" or "operator:<name>", the owner it proves, or None.
Verify = Callable[[str], str | None]


def operator() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


class Registry:
    def __init__(self, remote: str, workdir: Path, *, actor: str | None = None) -> None:
        self.remote = remote
        self.workdir = workdir
        self.actor = actor or operator()

    # -- git ---------------------------------------------------------------------------------
    def git(self, *args: str, check: bool = True, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", "-c", f"user.name={self.actor}", "-c", f"user.email={self.actor.replace(' ', '_')}",
             "-c", "init.defaultBranch=main", *args],
            cwd=cwd or self.workdir, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RegistryError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def ensure(self) -> Registry:
        """The working copy, cloned (and the registry initialised) on first use."""
        if (self.workdir / ".git").exists():
            return self
        local = Path(self.remote) if "://" not in self.remote and ":" not in self.remote.split("/")[0] else None
        if local is not None and (not local.exists() or not any(local.iterdir())):
            local.mkdir(parents=True, exist_ok=True)
            self.git("init", "--bare", "--initial-branch", BRANCH, str(local), cwd=local)
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        if self.workdir.is_dir() and any(self.workdir.iterdir()):
            self._adopt()  # profiles made here before the registry was (an older host, a profiles root)
        else:
            self.git("clone", self.remote, str(self.workdir), cwd=self.workdir.parent)
        self._join()
        if not self._has_head():
            (self.workdir / "profiles").mkdir(exist_ok=True)
            (self.workdir / "profiles" / ".gitkeep").touch()
            (self.workdir / "OWNERS").write_text(OWNERS_HEADER)
            (self.workdir / "README.md").write_text(README)
            (self.workdir / ".gitignore").write_text(ROOT_IGNORE)
            self.git("symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
            self._commit("registry: initialise (profiles/, OWNERS, README)")
            self.git("push", "-q", "-u", "origin", BRANCH)
        if local is not None:
            self._point_head(local)
        return self

    def _point_head(self, bare: Path) -> None:
        """A bare registry on this disk whose HEAD names a branch it lacks (`git init --bare` names
        master) is pointed at the registry's: a plain `git clone` of it then checks the profiles out."""
        named = self.git("symbolic-ref", "-q", "HEAD", cwd=bare, check=False).strip()
        exists = self.git("rev-parse", "--verify", "-q", named, cwd=bare, check=False).strip() if named else ""
        if not exists and self.git("rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}", cwd=bare, check=False):
            self.git("symbolic-ref", "HEAD", f"refs/heads/{BRANCH}", cwd=bare)

    def _adopt(self) -> None:
        """Make an existing folder the working copy: the clone's .git moves in, files already here stay
        (the next push commits them as this host's changes)."""
        with tempfile.TemporaryDirectory(dir=self.workdir.parent, prefix=".registry-clone.") as scratch:
            self.git("clone", "-q", "--no-checkout", self.remote, str(Path(scratch) / "copy"), cwd=self.workdir.parent)
            shutil.move(str(Path(scratch) / "copy" / ".git"), str(self.workdir / ".git"))
        if self._has_head():
            self.git("reset", "-q")
            self._restore_deleted()

    def _join(self) -> None:
        """Take the registry's branch, whatever the bare repository's HEAD names. A default `git init
        --bare` names `master`, which the registry never has: a clone then checks nothing out, and this
        host would make a first commit of its own that the registry refuses (non-fast-forward)."""
        if self._has_head():
            return  # the clone found the branch (HEAD names it, or it was adopted)
        if not self.git("rev-parse", "--verify", "-q", f"refs/remotes/origin/{BRANCH}", check=False).strip():
            return  # an empty registry: `ensure` initialises it
        self.git("symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
        self.git("reset", "-q", f"origin/{BRANCH}")  # files already here stay (as in _adopt)
        self.git("branch", "-q", "--set-upstream-to", f"origin/{BRANCH}")
        self._restore_deleted()

    def _has_head(self) -> bool:
        return bool(self.git("rev-parse", "--verify", "-q", "HEAD", check=False).strip())

    def _restore_deleted(self) -> None:
        """After a reset onto the registry's branch: check out its files this folder lacks (files
        already here stay, as this host's changes)."""
        missing = [n for n in self.git("ls-files", "-z", "--deleted").split("\0") if n]
        if missing:
            self.git("checkout", "--", *missing)

    def _commit(self, message: str) -> bool:
        """Stage everything and commit; False when there was nothing to commit."""
        self.git("add", "-A")
        self._refuse_secrets()
        if not self.git("status", "--porcelain").strip():
            return False
        self.git("commit", "-q", "-m", message)
        return True

    def _refuse_secrets(self) -> None:
        staged = [p for p in self.git("diff", "--cached", "--name-only", "-z").split("\0") if p]
        env_files = [p for p in staged if Path(p).name == ".env"]
        if env_files:
            self.git("reset", "-q")
            raise RegistryError(f"refusing to commit secrets: {', '.join(env_files)}; they belong in .gitignore")
        secrets = {v for env in (self.workdir / "profiles").glob("*/.env") for v in _secret_values(env)}
        for path in staged:
            file = self.workdir / path
            if file.is_file() and any(secret in file.read_text(errors="ignore") for secret in secrets):
                self.git("reset", "-q")
                raise RegistryError(f"refusing to commit {path}: it contains a value of a profile's .env")

    # -- profiles and owners -----------------------------------------------------------------
    def profiles(self) -> list[str]:
        root = self.workdir / "profiles"
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []

    def owners(self) -> dict[str, Owner]:
        found: dict[str, Owner] = {}
        for line in (self.workdir / "OWNERS").read_text().splitlines():
            if line.startswith("#") or "|" not in line:
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 4:
                found[parts[0]] = Owner(*parts)
        return found

    def _write_owners(self, owners: dict[str, Owner]) -> None:
        lines = [f"{o.profile} | {o.owner} | {o.verified_by} | {o.claimed_at}" for o in owners.values()]
        (self.workdir / "OWNERS").write_text(OWNERS_HEADER + "".join(line + "\n" for line in lines))

    def claim(self, profile: str, identity: str, verify: Verify) -> tuple[Owner, bool]:
        """Record `identity`'s owner as the profile's; (the owner, whether anything changed)."""
        self.pull()
        if profile not in self.profiles():
            raise RegistryError(f"no profile {profile!r} in the registry; `list` shows them")
        who = verify(identity)
        if who is None:
            raise ClaimRefused(f"{identity!r} proves no one: give payment:<transaction id> of a paid order,"
                               " or operator:<name>")  # fmt: skip
        owners = self.owners()
        current = owners.get(profile)
        if current is not None:
            if current.owner != who:
                raise ClaimRefused(f"{profile} is owned by {current.owner} (verified by {current.verified_by});"
                                   " ask them to `ownership transfer`")  # fmt: skip
            return current, False
        owners[profile] = Owner(profile, who, identity, dt.date.today().isoformat())
        self._write_owners(owners)
        self._commit(f"claim: {profile} by {who} ({identity}), by {self.actor}")
        self.push(f"claim {profile}")
        return owners[profile], True

    def transfer(self, profile: str, to: str, giver: str, taker: str, verify: Verify) -> Owner:
        """Hand a profile to `to`; the current owner's and the new owner's identities both checked."""
        self.pull()
        owners = self.owners()
        current = owners.get(profile)
        if current is None:
            raise RegistryError(f"{profile} has no owner to transfer from; `claim` it")
        if verify(giver) != current.owner:
            raise ClaimRefused(f"{giver!r} does not prove {current.owner}, who owns {profile}")
        if verify(taker) != to:
            raise ClaimRefused(f"{taker!r} does not prove {to}, who is to receive {profile}")
        owners[profile] = Owner(profile, to, taker, dt.date.today().isoformat())
        self._write_owners(owners)
        self._commit(f"transfer: {profile} from {current.owner} ({giver}) to {to} ({taker}), by {self.actor}")
        self.push(f"transfer {profile}")
        return owners[profile]

    def show(self, profile: str) -> str:
        """What changed in the profile since the last commit (untracked files included)."""
        path = f"profiles/{profile}"
        if not (self.workdir / path).exists():
            raise RegistryError(f"no profile {profile!r} here; `pull` or `list`")
        self.git("add", "-N", path)  # new files show in the diff
        return self.git("diff", "HEAD", "--", path) or f"{profile}: no changes since the last commit\n"

    # -- sync --------------------------------------------------------------------------------
    def pull(self) -> list[str]:
        """Fetch the registry and merge it in (three-way, by file kind); the files that changed."""
        self.git("fetch", "-q", "origin")
        theirs = f"origin/{BRANCH}"
        if not self.git("rev-parse", "--verify", "-q", theirs, check=False).strip():
            return []
        self._commit(f"local changes on {socket.gethostname()}, by {self.actor}")
        head, remote = self.git("rev-parse", "HEAD").strip(), self.git("rev-parse", theirs).strip()
        base = self.git("merge-base", "HEAD", theirs).strip()
        if remote == base:
            return []  # nothing new there
        if head == base:
            changed = self.git("diff", "--name-only", "HEAD", theirs).split()
            self.git("merge", "-q", "--ff-only", theirs)
            return changed
        merged = merge_tree(self._tree(base), self._tree(head), self._tree(remote))
        if not merged.ok:
            raise SyncConflict(merged.conflicts)
        self.git("merge", "-q", "--no-ff", "--no-commit", "-s", "ours", theirs)
        changed = []
        for result in merged.files:
            if result.kept_local_over is not None:  # SOUL.md / AGENTS.md: ours stays, theirs is logged
                log.warning("sync_kept_local", path=result.path, remote_text=result.kept_local_over)
            target = self.workdir / result.path
            current = target.read_text() if target.exists() else None
            if result.text != current:
                changed.append(result.path)
                if result.text is None:
                    target.unlink()
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(result.text)
        self._commit(f"sync: merge {theirs} into {socket.gethostname()}, by {self.actor}")
        return changed

    def push(self, why: str = "push") -> bool:
        """Commit local changes (who and why), merge what others pushed, push; whether anything went."""
        self._commit(f"{why}: local changes on {socket.gethostname()}, by {self.actor}")
        self.pull()
        ahead = self.git("rev-list", "--count", f"origin/{BRANCH}..HEAD", check=False).strip()
        if ahead == "0":
            return False
        self.git("push", "-q", "origin", f"HEAD:{BRANCH}")
        return True

    def sync(self) -> list[str]:
        changed = self.pull()
        self.push("sync")
        return changed

    def _tree(self, rev: str) -> dict[str, str]:
        names = [n for n in self.git("ls-tree", "-r", "--name-only", "-z", rev).split("\0") if n]
        return {name: self.git("show", f"{rev}:{name}") for name in names}


_SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def _secret_values(path: Path) -> list[str]:
    """The values of a .env's secret-named keys (API keys, tokens): hosts and ports are not secrets."""
    return [v for k, v in read_env(path).items() if any(word in k.upper() for word in _SECRET_NAMES) and len(v) >= 8]
