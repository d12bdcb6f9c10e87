"""The demo's content and its simulated contributors, used by ``manage.py seed_demo``.

``content`` makes the tasks and keeps each one's true answer (the photos and clips beside this
file, crops of the photos, ranking prompts from templates); ``people`` turns a true answer into
what a careful, average, sloppy or careless person would submit.
"""
