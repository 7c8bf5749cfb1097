"""GGUF model files read without llama.cpp: their header checked before llama.cpp may read
it (check), and the facts about a model that its metadata states (info). Pure Python, so
listing and planning never import a C library."""
