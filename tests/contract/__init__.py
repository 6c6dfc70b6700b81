"""The provider contract suite: ``suite.py`` holds the tests, ``test_<provider>.py`` runs them."""
