pytest_plugins = ["chainpay.testing"]
