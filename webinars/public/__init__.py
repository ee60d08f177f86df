"""The public site (docs/public-pages.md): views, forms, the join block, page caching."""
