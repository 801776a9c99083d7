require 'net/http'

class ReportClient
  API_TOKEN = 'BRak3DuQEGLHlTcGPtVk0Bg7uCW9Zwal4idp5STV'.freeze
  def initialize(token: ENV['REPORT_TOKEN'])
    @token = token
  end
end
