"""`mentorbot studio`: try, teach and debug the bot in a web page, on a virtual clock."""
