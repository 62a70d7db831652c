"""The Streamlit UI's library: the API client and what the page renders (ui/app.py is the page)."""
