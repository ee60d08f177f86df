"""Signal receivers: keep side effects of model and page events in one place."""
