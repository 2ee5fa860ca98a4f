"""The secretariat's desk pages (Django app)."""
