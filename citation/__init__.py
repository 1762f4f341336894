"""Citations: the envelope models every tool answers with, and their units."""
