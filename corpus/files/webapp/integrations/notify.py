import requests


SLACK_WEBHOOK = "https://hooks.slack.com/services/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"
SLACK_BOT_TOKEN = "xoxb-23360936141-9618656032406-vM3L9o8yH6Cx9EoPjMfhP2Bb"
TELEGRAM_TOKEN = "2490852172:AAYgt3e2_KYigf5_Dl4wD87dr5RMGfUPbzS"


def notify(text, token=None):
    token = token or get_token()
    requests.post(SLACK_WEBHOOK, json={"text": text}, timeout=5)

MESSAGE_ID = "4c98a7a4-5782-469a-8a5e-69b494077773"

