"""A fixed few-shot prefix of about 400 tokens, so speed figures compare across machines."""

FEWSHOT = """\
Question: Tom has 3 apples and buys 2 more. How many apples does he have?
Reasoning: Tom starts with 3 apples and buys 2, so he has 3 + 2 = 5 apples.
Final answer: 5

Question: A pen costs $2. How much do 4 pens cost?
Reasoning: Each pen costs $2, so 4 pens cost 4 * 2 = 8 dollars.
Final answer: 8

Question: A class has 24 students. Half of them walk to school. How many walk?
Reasoning: Half of 24 is 24 / 2 = 12, so 12 students walk to school.
Final answer: 12

Question: Maria reads 15 pages a day. How many pages does she read in a week?
Reasoning: A week has 7 days, so she reads 15 * 7 = 105 pages.
Final answer: 105

Question: A box holds 6 eggs. How many boxes are needed for 30 eggs?
Reasoning: Each box holds 6 eggs, so 30 eggs need 30 / 6 = 5 boxes.
Final answer: 5

Question: Sam had $50. He spent $18 on a book and $7 on lunch. How much is left?
Reasoning: He spent 18 + 7 = 25 dollars, so 50 - 25 = 25 dollars are left.
Final answer: 25

Question: A train travels 60 miles an hour for 3 hours. How far does it go?
Reasoning: Distance is speed times time, so 60 * 3 = 180 miles.
Final answer: 180

Question: There are 4 rows of 9 chairs. 5 chairs are taken. How many are free?
Reasoning: There are 4 * 9 = 36 chairs and 5 are taken, so 36 - 5 = 31 are free.
Final answer: 31

Question: A baker makes 120 rolls and sells 3 out of every 4. How many are sold?
Reasoning: Three quarters of 120 is 120 * 3 / 4 = 90 rolls sold.
Final answer: 90

"""

QUESTION = "Question: Lena buys 3 bags of 14 marbles and gives away 9. How many are left?\n" \
           "Reasoning:"
