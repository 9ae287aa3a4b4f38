-- Verify mod_todo:token_key on pg: the key is there, 32 bytes or more.

SELECT 1 / count(*)
  FROM token_key
 WHERE id = 1 AND octet_length(secret) >= 32;
