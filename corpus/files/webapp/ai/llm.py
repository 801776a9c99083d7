from openai import OpenAI
import anthropic

client = OpenAI(api_key="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")
claude = anthropic.Anthropic(api_key="sk-ant-api03-Z-s3u5PKjESWzpPRj3FcLeeujhYe9s61ojXW9Vh2aizjx-ELO4weo9XpixRZvtNiAc9AhonU4i9PE1Z_bvTtxD-0yjAPxAA")
HF_TOKEN = "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"
max_tokens = 4096
tokenizer = AutoTokenizer.from_pretrained("gpt2")
api_key = os.getenv("OPENAI_API_KEY")

MODEL_SHA256 = "69cda3b7beaa3324fa5a56053f71fa6b2ee5b040ff8396f94fecda62f6499e40"

