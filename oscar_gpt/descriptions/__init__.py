"""Product descriptions and SEO fields: generate, check, review, publish, revert."""
