"""Evidence for the review page, as pure functions (no Django): the originality passage and its picture."""
