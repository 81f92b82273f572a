"""What both chat bots share: settings resolution, upload intake, and the answers drawn per platform."""
