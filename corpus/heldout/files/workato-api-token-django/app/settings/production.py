DEBUG = False
WORKATO_API_TOKEN = os.environ.get("WORKATO_API_TOKEN", "wrkaus-eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMzU1MjQ3MzkxIiwibmFtZSI6ImJhYmtkeGIiLCJpYXQiOjE2MDg5MzI1OTEsInNjb3BlIjoiZGVwbG95In0.E--bCurdZXs3lzmFyr-xxs8ggJMpdOcAGP3H4Jv6pYOqhkxr6oMUwKMn7Kzo44XxFgK9moQXXn9gyXi4qsq")
ALLOWED_HOSTS = ["app.example.com"]
