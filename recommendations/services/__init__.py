"""Writes on recommendations, one module per concern: events, taste, playlists, compose-ahead."""
