"""Request shapes of Perspective API and Akismet, so their clients switch to us by changing one URL."""
