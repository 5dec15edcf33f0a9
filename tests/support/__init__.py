"""Test support: job actors, a worker for other processes, a TCP proxy. Not collected by pytest."""
