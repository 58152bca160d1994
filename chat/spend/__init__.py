"""Money: model prices and costs, and the admin's token-spend report and CSV."""
