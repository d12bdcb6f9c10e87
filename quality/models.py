"""Quality models (contributor standing, reviews) arrive with the quality work."""
