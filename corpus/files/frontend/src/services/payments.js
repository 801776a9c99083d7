import Stripe from 'stripe';

const stripe = new Stripe('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');
const shopifyToken = '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';
const currency = 'eur';
const password = document.getElementById('password').value;
const tokenKey = 'session-token';

