"""The job seekers' side of JobPing: a FastAPI app with the JSON API under /api and the web
page at /, served by `jobping serve api`. It reads the app database and launches Dagster runs
through the Dagster webserver; it may import every stage, and no stage imports it."""
