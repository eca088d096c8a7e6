"""Writes on generation, one module per concern: jobs, stages, publishing, licences, tracks, sweeper."""

from generation.services.tracks import tracks_erase_for_user

__all__ = ["tracks_erase_for_user"]
