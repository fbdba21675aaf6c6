"""Code that several test modules share: builders of stores, recaps and exports, and the browser launcher.

Test modules never import each other (tests/test_layout.py checks it): what two of them need lives here, or in a
``conftest.py`` when it is a fixture. Nothing here is collected as tests: no module is named ``test_*``.
"""
