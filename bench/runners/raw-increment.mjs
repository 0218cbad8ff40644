// The same body for raw piscina (piscina passes the task itself).
export default (n) => n + 1;
