"""The Streamlit pages of app.py: thin layers over the digitrec library."""
