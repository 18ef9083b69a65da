"""The test suite (see tests/conftest.py for its fixtures, tests/support for its helpers)."""

import pytest

# Helpers in tests/support assert too: show their failures as pytest shows a test's.
pytest.register_assert_rewrite("tests.support")
