"""Prompt text for each step: few-shot completion for base models, chat messages otherwise.

Base models (like the embedded Gemma 3 270M) only continue text, so every prompt is a short
few-shot document whose next line is the model's turn. Instruct models get the same requests
as chat messages rendered through the model's own chat template.
"""

from __future__ import annotations

from dataclasses import dataclass

from think.engine.base import PromptFormat
from think.tasks.extract import FINAL_CUE

VERDICT_CUE = "Verdict:"
QUESTION_STOP = "\nQuestion:"

# Worked examples per task kind: (question, reasoning, answer).
EXAMPLES: dict[str, list[tuple[str, str, str]]] = {
    "math": [
        ("Tom has 3 apples and buys 2 more. How many apples does he have?",
         "Tom starts with 3 apples and buys 2, so he has 3 + 2 = 5 apples.", "5"),
        ("A pen costs $2. How much do 4 pens cost?",
         "Each pen costs $2, so 4 pens cost 4 * 2 = 8 dollars.", "8"),
    ],
    "choice": [
        ("Which is a mammal?\n(A) shark\n(B) whale\n(C) trout",
         "Whales breathe air and feed milk to their young; sharks and trout are fish.", "B"),
    ],
    "code": [
        ("Write a Python function add(a, b) that returns the sum of a and b.",
         "The function returns a + b.", "```python\ndef add(a, b):\n    return a + b\n```"),
    ],
    "text": [
        ("What is the capital of France?",
         "France's government sits in its largest city, Paris.", "Paris"),
    ],
}

CRITIQUE_EXAMPLES = """\
Question: What is 12 + 7?
Proposed solution: 12 + 7 = 18.
Final answer: 18
Review: 12 + 7 is 19, not 18, so the addition is wrong.
Verdict: wrong
Revised solution: 12 + 7 = 19.
Final answer: 19

Question: A box holds 6 eggs. How many eggs are in 3 boxes?
Proposed solution: 3 boxes of 6 eggs hold 3 * 6 = 18 eggs.
Final answer: 18
Review: Each step is correct.
Verdict: correct

"""

TESTS_EXAMPLE = f"""\
Question: Write a Python function add(a, b) that returns the sum of a and b.
Reasoning: Tests that a correct solution must pass.
{FINAL_CUE}
```python
assert add(1, 2) == 3
assert add(-1, 1) == 0
```

"""

CHAT_DIRECT = "Answer with the final answer only, on one line, with no explanation."
CHAT_COT = (f"Think step by step. End with a last line of the form '{FINAL_CUE} <answer>'.")
CHAT_CRITIQUE = ("Check the proposed solution step by step. End with a last line "
                 f"'{VERDICT_CUE} correct' or '{VERDICT_CUE} wrong'.")
CHAT_REVISE = f"Write a corrected solution. End with a last line '{FINAL_CUE} <answer>'."
CODE_NOTE = " For code, give the final answer as one fenced ```python block."


@dataclass(frozen=True)
class Prompts:
    """Builds the prompts for one question on one engine."""

    engine: PromptFormat
    question: str
    task: str

    @property
    def chat(self) -> bool:
        return self.engine.prompt_format == "chat"

    def _examples(self, with_reasoning: bool) -> str:
        lines = []
        for question, reasoning, answer in EXAMPLES[self.task]:
            lines.append(f"Question: {question}")
            if with_reasoning:
                lines.append(f"Reasoning: {reasoning}")
                lines.append(f"{FINAL_CUE} {answer}" if "\n" not in answer
                             else f"{FINAL_CUE}\n{answer}")
            else:
                lines.append(f"Answer: {answer}")
            lines.append("")
        return "\n".join(lines) + "\n"

    def _system(self, text: str) -> str:
        return text + (CODE_NOTE if self.task == "code" else "")

    def direct(self) -> str:
        """Prompt for a direct answer: the model's next line is the answer."""
        if self.chat:
            return self.engine.render_chat([
                {"role": "system", "content": self._system(CHAT_DIRECT)},
                {"role": "user", "content": self.question}])
        return f"{self._examples(False)}Question: {self.question}\nAnswer:"

    def cot(self) -> str:
        """Prompt for a chain of thought that ends with the final-answer cue."""
        if self.chat:
            return self.engine.render_chat([
                {"role": "system", "content": self._system(CHAT_COT)},
                {"role": "user", "content": self.question}])
        return f"{self._examples(True)}Question: {self.question}\nReasoning:"

    def critique(self, solution: str) -> str:
        """Prompt for the verifier's review of a solution, ending before the review."""
        if self.chat:
            return self.engine.render_chat(self._critique_messages(solution))
        return (f"{CRITIQUE_EXAMPLES}Question: {self.question}\n"
                f"Proposed solution: {solution.strip()}\nReview:")

    def revise(self, solution: str, critique: str) -> str:
        """Prompt for a revised solution, continuing the critique prompt (its prefix is reused)."""
        if self.chat:
            return self.engine.render_chat(self._critique_messages(solution) + [
                {"role": "assistant", "content": critique.strip()},
                {"role": "user", "content": self._system(CHAT_REVISE)}])
        return f"{self.critique(solution)}{critique}\nRevised solution:"

    def _critique_messages(self, solution: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"Question: {self.question}\n\nProposed solution:\n"
                 f"{solution.strip()}\n\n{CHAT_CRITIQUE}"}]

    def write_tests(self) -> str:
        """Prompt for assert statements that test the asked-for code."""
        if self.chat:
            return self.engine.render_chat([{"role": "user", "content": (
                f"{self.question}\n\nDo not solve it. Write Python assert statements that test "
                f"a correct solution, as one fenced ```python block after '{FINAL_CUE}'.")}])
        return (f"{TESTS_EXAMPLE}Question: {self.question}\n"
                f"Reasoning: Tests that a correct solution must pass.\n{FINAL_CUE}\n")

    def round_overhead(self) -> str:
        """The prompt text a refinement round adds beyond the solution and the critique."""
        return self.critique("") + "\nRevised solution:"

    def shared_prefix(self, prompt: str) -> str:
        """The start of a prompt that every question shares (its few-shot examples), or ""."""
        if self.chat:
            return ""
        known = (self._examples(True), self._examples(False), CRITIQUE_EXAMPLES)
        return max((p for p in known if prompt.startswith(p)), key=len, default="")

    def stops(self) -> tuple[str, ...]:
        """Where a base model's turn ends: the start of the next few-shot question."""
        return () if self.chat else (QUESTION_STOP,)
