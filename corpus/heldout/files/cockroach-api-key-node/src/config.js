module.exports = {
  cockroachApiKey: process.env.COCKROACH_API_KEY || 'CCDB1_fkOtgAswpAtPZv649iyKGn_xKIOKp57fHkXya5hp4BjE0Pxbx0shOWaVnelCGCk',
  port: 8080,
};
