"""Cadenza's generation app: the model, the audio pipeline, provenance and the jobs around them.

Importing it (or one of its pure packages) imports nothing heavy: the pure packages take only
what they use. ``apps.GenerationConfig.ready`` quiets pyfluidsynth for Django processes.
"""
