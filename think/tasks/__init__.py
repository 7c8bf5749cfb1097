"""What a kind of question needs: fixed few-shot text and grading against gold answers."""
