local pieces = {}
local r = llm.stream({prompt = "Stream please"}, function(piece)
  pieces[#pieces + 1] = piece
  print("piece " .. #pieces .. ": [" .. piece .. "]")
end)
print("joined equals content: " .. tostring(table.concat(pieces) == r.content))
print("pieces > 1: " .. tostring(#pieces > 1))
return {content = r.content, finish = r.finish_reason}
