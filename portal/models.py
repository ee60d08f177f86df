"""No models: the module makes ``migrate`` send ``post_migrate`` for the portal app (apps.py)."""
