"""Learned components: persistence (artifacts), permeability (log Kp), absorption over time.

The concern and skin-type models live here too. Nothing in this package is imported by
``recommender.safety``.
"""
