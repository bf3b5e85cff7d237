pytest_plugins = ["chainpay.testing", "bridge_support"]
