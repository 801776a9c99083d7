module.exports = {
  proofApiKey: process.env.PROOF_API_KEY || 'prf_82fTIk6iDDQ3UUQlbVe4OoSlzBScxMPsbtQS53g1',
  port: 8080,
};
