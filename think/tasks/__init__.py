"""What a kind of question needs: detection and answer extraction (extract), prompts
(prompts), grading against gold answers (grading) and fixed few-shot text (fewshot)."""
