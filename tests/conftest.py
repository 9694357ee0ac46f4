pytest_plugins = ["tests.fakegroq.plugin"]
