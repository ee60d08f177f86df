"""The public site: pages for guests and signed-in people (views, forms, the join block)."""
