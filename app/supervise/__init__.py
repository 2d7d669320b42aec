"""The supervisor's screens for telephone fieldwork: progress, rates, productivity, actions."""
