"""Prompt text for each step: few-shot completion for base models, chat messages otherwise.

Base models (like the embedded Gemma 3 270M) only continue text, so every prompt is a short
few-shot document whose next line is the model's turn. Instruct models get the same requests
as chat messages rendered through the model's own chat template.
"""

from __future__ import annotations

from dataclasses import dataclass

from think.engine.base import PromptFormat
from think.engine.prompt import Chat, Prompt
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

# Program-aided answers: one Python expression (or a short program) whose value is the answer;
# think runs it in the OS sandbox (strategies/program). A base model continues one line.
PROGRAM_EXAMPLES = """\
Write the Python expression that computes the answer.

Question: Ana has 3 pens and gets 2 more. How many pens does Ana have now?
Python: 3 + 2

Question: What is 4 times 5?
Python: 4 * 5

Question: A bag holds 6 beads. How many beads are in 3 bags?
Python: 6 * 3

Question: Sam had 50 dollars and spent 18. How much is left?
Python: 50 - 18

"""
CHAT_PROGRAM = ("Do not answer in words. Write a short Python program that computes the answer "
                "and ends with an expression (or print) of it, as one fenced ```python block.")

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
# DeepSeek-R1's card: "Please reason step by step, and put your final answer within \boxed{}."
CHAT_COT_BOXED = "Please reason step by step, and put your final answer within \\boxed{}."
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

    def _instructed(self, instructions: str, thinking: bool = True) -> Chat:
        """The question with its instructions: as a system prompt, or after the question for
        models that take none (DeepSeek-R1's card)."""
        instructions = self._system(instructions)
        if self.engine.rules.system_prompt:
            return Chat.of(("system", instructions), ("user", self.question), thinking=thinking)
        return Chat.of(("user", f"{self.question}\n\n{instructions}"), thinking=thinking)

    def direct(self) -> Prompt:
        """Prompt for a direct answer: the model's next line is the answer (a reasoning
        model is asked not to think, where its template can say so)."""
        if self.chat:
            return self._instructed(CHAT_DIRECT, thinking=False)
        return f"{self._examples(False)}Question: {self.question}\nAnswer:"

    def cot(self) -> Prompt:
        """Prompt for a chain of thought that ends with the final-answer cue."""
        if self.chat:
            boxed = self.engine.rules.answer_format == "boxed" and self.task == "math"
            return self._instructed(CHAT_COT_BOXED if boxed else CHAT_COT)
        return f"{self._examples(True)}Question: {self.question}\nReasoning:"

    def program(self) -> Prompt:
        """Prompt for a program whose value is the answer (a reasoning model is asked not to
        think: the program is its reasoning)."""
        if self.chat:
            return self._instructed(CHAT_PROGRAM, thinking=False)
        return f"{PROGRAM_EXAMPLES}Question: {self.question}\nPython:"

    def critique(self, solution: str) -> Prompt:
        """Prompt for the verifier's review of a solution, ending before the review."""
        if self.chat:
            return self._critique_chat(solution)
        return (f"{CRITIQUE_EXAMPLES}Question: {self.question}\n"
                f"Proposed solution: {solution.strip()}\nReview:")

    def revise(self, solution: str, critique: str) -> Prompt:
        """Prompt for a revised solution, continuing the critique prompt (its prefix is reused)."""
        if self.chat:
            return self._critique_chat(solution).then(
                ("assistant", critique.strip()), ("user", self._system(CHAT_REVISE)))
        return f"{self.critique(solution)}{critique}\nRevised solution:"

    def _critique_chat(self, solution: str) -> Chat:
        return Chat.of(("user", f"Question: {self.question}\n\nProposed solution:\n"
                        f"{solution.strip()}\n\n{CHAT_CRITIQUE}"))

    def write_tests(self) -> Prompt:
        """Prompt for assert statements that test the asked-for code."""
        if self.chat:
            return Chat.of(("user", (
                f"{self.question}\n\nDo not solve it. Write Python assert statements that test "
                f"a correct solution, as one fenced ```python block after '{FINAL_CUE}'.")))
        return (f"{TESTS_EXAMPLE}Question: {self.question}\n"
                f"Reasoning: Tests that a correct solution must pass.\n{FINAL_CUE}\n")

    def round_overhead(self) -> Prompt:
        """The prompt a refinement round adds beyond the solution and the critique."""
        return self.revise("", "")

    def shared_prefix(self, prompt: Prompt) -> str:
        """The start of a prompt that every question shares (its few-shot examples), or ""."""
        if not isinstance(prompt, str):
            return ""
        known = (self._examples(True), self._examples(False), CRITIQUE_EXAMPLES,
                 PROGRAM_EXAMPLES)
        return max((p for p in known if prompt.startswith(p)), key=len, default="")

    def stops(self) -> tuple[str, ...]:
        """Where a base model's turn ends: the start of the next few-shot question."""
        return () if self.chat else (QUESTION_STOP,)
