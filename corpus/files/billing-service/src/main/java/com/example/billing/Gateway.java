package com.example.billing;

public final class Gateway {
    private static final String API_KEY = "5fJrm6eGYD7Zee72vOPJzk2PXXfmpOQAwWBPonTD";
    private static final String PASSWORD_FIELD = "password";
    private final String token;

    Gateway(String token) {
        this.token = token;
    }
}
