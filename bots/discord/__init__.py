"""The Discord bot: live meetings in voice channels (DAVE-encrypted voice received), uploads, slash commands."""
