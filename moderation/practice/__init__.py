"""Training before moderating (issue 19): a practice console fed only with practice scenarios,
feedback after every decision, a trainee's record, supervisor sign-off and refreshers."""
