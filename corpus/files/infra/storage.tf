locals {
  storage_conn = "DefaultEndpointsProtocol=https;AccountName=billingexports;AccountKey=wFUNhvVmrxSLCAElZXcuo/LfeJTP0XICiAww3eYwJJeasMTcbolo7xICfhiQr2qOu5f8mHvhgcxCD1IxM8KkxA==;EndpointSuffix=core.windows.net"
}
  # Endpoint=sb://orders-prod.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=rVShGy0uKJDiRAKRFsnWStbQU4VrWl7681nQmIPXRvo=
