"""The BI dashboard: a Streamlit app on the serving file that ``leadscore publish`` writes.

``queries`` holds every SQL the dashboard runs (one function per figure or table, each
taking a connection to the serving file); ``app`` renders them
(``streamlit run python/leadscore/dashboard/app.py``, or ``make dashboard``).
"""
