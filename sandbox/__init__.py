"""refund-sandbox: stateful fakes of five refund APIs behind one Flask app."""

__version__ = "0.1.0"
