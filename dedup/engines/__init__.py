"""Engines that run the stages elsewhere than in-process (Spark)."""
