"""Reusable pieces of the dashboard's pages: pure builders from the AppContext to Dash components."""
